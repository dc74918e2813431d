/**
 * The wizard's questions, behind a small interface so the flow can be tested without a
 * terminal. The real one is Inquirer's (loaded only when the wizard runs): Inquirer 14 exports
 * a prompt module whose question types are `select`, `input`, `confirm`, `number`, ….
 */
import type { CliIo } from "../io.js";

export interface Choice<T> {
  value: T;
  name: string;
  description?: string;
}

export interface AskOptions {
  /** closes the question (it rejects with AbortPromptError) */
  signal?: AbortSignal;
  /** erase the question from the screen once answered or closed */
  clear?: boolean;
}

export interface Prompter {
  select<T>(
    question: { message: string; choices: Array<Choice<T>>; default?: T },
    options?: AskOptions,
  ): Promise<T>;
  input(
    question: { message: string; default?: string; validate?: (value: string) => true | string },
    options?: AskOptions,
  ): Promise<string>;
  confirm(question: { message: string; default: boolean }, options?: AskOptions): Promise<boolean>;
}

/** Ctrl-C at a question (Inquirer's ExitPromptError): the operator wants out. */
export function isPromptExit(error: unknown): boolean {
  return error instanceof Error && error.name === "ExitPromptError";
}

/** A question closed by its signal (AbortPromptError) or cancelled (CancelPromptError). */
export function isPromptClosed(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === "AbortPromptError" || error.name === "CancelPromptError")
  );
}

type Ask = (questions: Array<Record<string, unknown>>) => Promise<Record<string, unknown>>;

/** Inquirer's prompts on the run's terminal: keys from stdin, questions on stdout. */
export async function inquirerPrompter(io: CliIo): Promise<Prompter> {
  const { createPromptModule } = await import("inquirer");
  const ask = async <T>(question: Record<string, unknown>, options: AskOptions = {}) => {
    const prompt = createPromptModule({
      input: io.stdin ?? process.stdin,
      output: io.stdout,
      clearPromptOnDone: options.clear === true,
      ...(options.signal ? { signal: options.signal } : {}),
    }) as unknown as Ask;
    const answers = await prompt([{ ...question, name: "answer" }]);
    return answers.answer as T;
  };
  return {
    select: (q, o) => ask({ type: "select", loop: false, pageSize: 12, ...q }, o),
    input: (q, o) => ask({ type: "input", ...q }, o),
    confirm: (q, o) => ask({ type: "confirm", ...q }, o),
  };
}
