/** In-memory streams and an io for running the CLI in-process. */
import { Writable } from "node:stream";
import type { CliIo, CliStream } from "../../../src/cli/io.js";

export interface MemoryStream {
  stream: CliStream;
  text(): string;
  lines(): string[];
}

export function memoryStream(isTTY = false): MemoryStream {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      text += chunk.toString();
      callback();
    },
  }) as CliStream;
  stream.isTTY = isTTY;
  return {
    stream,
    text: () => text,
    lines: () => text.split("\n").filter((l) => l !== ""),
  };
}

export interface MemoryIo {
  io: CliIo;
  stdout: MemoryStream;
  stderr: MemoryStream;
}

export function memoryIo(
  options: { env?: Record<string, string | undefined>; cwd?: string } = {},
): MemoryIo {
  const stdout = memoryStream();
  const stderr = memoryStream();
  return {
    stdout,
    stderr,
    io: {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: options.env ?? {},
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      onSignal: () => () => undefined,
      exit: (code) => {
        throw new Error(`exit ${code}`);
      },
    },
  };
}
