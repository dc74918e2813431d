import type { S3Handler } from "../../context.js";
import { AwsError } from "../../protocol/errors.js";

export const handleS3: S3Handler = () => {
  throw new AwsError("NotImplemented", "S3 is not implemented yet", 501);
};
