/**
 * The `aws-chunked` content encoding S3 accepts for streaming uploads: the object's bytes in
 * chunks, each framed as `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n`, ended by a
 * zero-size chunk and optional trailer lines (`x-amz-checksum-crc32:<base64>`), then `\r\n`.
 */
import { AwsError } from "../../protocol/errors.js";

export interface DecodedChunks {
  /** the object's bytes, framing removed */
  body: Buffer;
  /** trailer headers sent after the last chunk, names lower-cased */
  trailers: Record<string, string>;
}

const CRLF = Buffer.from("\r\n");
const HEX = /^[0-9a-fA-F]+$/;

/** Decodes an aws-chunked body. Throws `IncompleteBody` or `InvalidRequest` on broken framing. */
export function decodeAwsChunked(raw: Buffer): DecodedChunks {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = raw.indexOf(CRLF, pos);
    if (lineEnd === -1) {
      throw new AwsError("IncompleteBody", "The aws-chunked body ended inside a chunk header.");
    }
    const header = raw.subarray(pos, lineEnd).toString("latin1");
    const sizeText = header.split(";", 1)[0]!.trim();
    if (!HEX.test(sizeText)) {
      throw new AwsError(
        "InvalidRequest",
        `Invalid aws-chunked chunk header: ${header.slice(0, 80)}`,
      );
    }
    const size = Number.parseInt(sizeText, 16);
    pos = lineEnd + 2;
    if (size === 0) break;
    if (pos + size > raw.length) {
      throw new AwsError(
        "IncompleteBody",
        "You did not provide the number of bytes specified by the chunk header.",
      );
    }
    parts.push(raw.subarray(pos, pos + size));
    pos += size;
    if (raw.indexOf(CRLF, pos) !== pos) {
      throw new AwsError("InvalidRequest", "An aws-chunked chunk is not followed by CRLF.");
    }
    pos += 2;
  }
  const trailers: Record<string, string> = {};
  // Trailer lines until an empty line (or the end of the body).
  while (pos < raw.length) {
    let lineEnd = raw.indexOf(CRLF, pos);
    if (lineEnd === -1) lineEnd = raw.length;
    const line = raw.subarray(pos, lineEnd).toString("latin1");
    pos = lineEnd + 2;
    if (line === "") break;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new AwsError(
        "InvalidRequest",
        `Invalid aws-chunked trailer line: ${line.slice(0, 80)}`,
      );
    }
    trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

/**
 * Whether a request body is aws-chunked framed: a streaming payload hash
 * (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, …), or
 * `Content-Encoding: aws-chunked` together with `x-amz-decoded-content-length`. S3 treats a body
 * sent with only the content encoding as plain bytes.
 */
export function isAwsChunked(headers: {
  contentSha256?: string;
  contentEncoding?: string;
  decodedContentLength?: string;
}): boolean {
  if (headers.contentSha256?.startsWith("STREAMING-")) return true;
  return (
    hasAwsChunkedEncoding(headers.contentEncoding) && headers.decodedContentLength !== undefined
  );
}

export function hasAwsChunkedEncoding(contentEncoding: string | undefined): boolean {
  return (contentEncoding ?? "")
    .split(",")
    .some((token) => token.trim().toLowerCase() === "aws-chunked");
}

/** The Content-Encoding S3 stores: the request's, without `aws-chunked`. */
export function storedContentEncoding(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  const rest = contentEncoding
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "" && token.toLowerCase() !== "aws-chunked");
  return rest.length > 0 ? rest.join(",") : undefined;
}
