/**
 * The sandbox's STS, query protocol, version 2011-06-15: GetCallerIdentity answers with the
 * sandbox account, whatever credentials signed the request.
 */
import type { QueryHandlers } from "../../context.js";
import { ACCOUNT_ID } from "../../state.js";

export const stsHandlers: QueryHandlers = {
  GetCallerIdentity() {
    return {
      UserId: "AIDASANDBOXUSER00000",
      Account: ACCOUNT_ID,
      Arn: `arn:aws:iam::${ACCOUNT_ID}:user/sandbox`,
    };
  },
};
