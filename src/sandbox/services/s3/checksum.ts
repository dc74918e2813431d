/**
 * S3's additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), base64 of the big-endian
 * digest as they travel in `x-amz-checksum-<algorithm>` headers and trailers.
 */
import { createHash } from "node:crypto";
import { crc32 } from "node:zlib";

export const CHECKSUM_ALGORITHMS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export function checksumHeader(algorithm: string): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** The base64 checksum of `data`. */
export function computeChecksum(algorithm: ChecksumAlgorithm, data: Buffer): string {
  switch (algorithm) {
    case "CRC32":
      return uint32(crc32(data));
    case "CRC32C":
      return uint32(crc32c(data));
    case "CRC64NVME":
      return crc64nvme(data);
    case "SHA1":
      return createHash("sha1").update(data).digest("base64");
    case "SHA256":
      return createHash("sha256").update(data).digest("base64");
  }
}

function uint32(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString("base64");
}

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78.
let crc32cTable: Uint32Array | undefined;
function crc32c(data: Buffer): number {
  if (!crc32cTable) {
    crc32cTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      crc32cTable[n] = c >>> 0;
    }
  }
  const table = crc32cTable;
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5, kept as two 32-bit halves for speed.
let crc64Tables: { hi: Uint32Array; lo: Uint32Array } | undefined;
function crc64nvme(data: Buffer): string {
  if (!crc64Tables) {
    const poly = 0x9a6c9329ac4bc9b5n;
    const hi = new Uint32Array(256);
    const lo = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = BigInt(n);
      for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n;
      hi[n] = Number(c >> 32n);
      lo[n] = Number(c & 0xffffffffn);
    }
    crc64Tables = { hi, lo };
  }
  const { hi: tHi, lo: tLo } = crc64Tables;
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  for (let i = 0; i < data.length; i++) {
    const index = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ tLo[index]!;
    hi = (hi >>> 8) ^ tHi[index]!;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
  out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
  return out.toString("base64");
}
