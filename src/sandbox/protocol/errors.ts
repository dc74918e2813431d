/**
 * An error the sandbox answers with, in the shape AWS would send it. The protocol encoders
 * turn it into the service's wire format; the SDK turns `code` into its named exception.
 */
export class AwsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: "Sender" | "Receiver";

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = "AwsError";
    this.code = code;
    this.status = status;
    this.type = status >= 500 ? "Receiver" : "Sender";
  }
}

export const validationError = (message: string): AwsError =>
  new AwsError("ValidationError", message);

/** The throttling code each service puts on the wire. */
export const THROTTLING_CODES: Record<string, { code: string; status: number; message: string }> = {
  autoscaling: { code: "Throttling", status: 400, message: "Rate exceeded" },
  elasticloadbalancing: { code: "Throttling", status: 400, message: "Rate exceeded" },
  iam: { code: "Throttling", status: 400, message: "Rate exceeded" },
  sts: { code: "Throttling", status: 400, message: "Rate exceeded" },
  ec2: { code: "RequestLimitExceeded", status: 503, message: "Request limit exceeded." },
  monitoring: { code: "Throttling", status: 400, message: "Rate exceeded" },
  s3: { code: "SlowDown", status: 503, message: "Please reduce your request rate." },
};
