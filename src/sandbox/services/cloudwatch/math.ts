/**
 * CloudWatch metric math, the part a gate needs: numbers, query ids, `+ - * / ^`, comparisons
 * (`> < >= <= == !=`), `AND`/`&&`, `OR`/`||`, parentheses and the functions `IF(c, a[, b])`,
 * `FILL(m, value | REPEAT | LINEAR)`, `ABS`, and `SUM`, `AVG`, `MIN`, `MAX` (of one series: a
 * number; of a list `[m1, m2]`: a series).
 *
 * A series is a map from period start (real ms) to value. Between two series an operator is
 * applied where both have a point; a result that is not a finite number (division by zero) is no
 * point. FILL fills every period of the query's window.
 */
import { AwsError } from "../../protocol/errors.js";

export type SeriesValue = Map<number, number>;
export type MathValue = number | SeriesValue | SeriesValue[];

export interface MathContext {
  /** the series of another query, by id */
  resolve(id: string): SeriesValue;
  /** every period start of the query window, ascending */
  grid(): number[];
}

type Token =
  | { kind: "num"; value: number }
  | { kind: "id"; name: string }
  | { kind: "op"; op: string }
  | { kind: "punct"; ch: string };

function invalid(expression: string, why: string): AwsError {
  return new AwsError(
    "ValidationError",
    `Invalid metrics math expression: ${why} in '${expression}'`,
    400,
  );
}

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const c = expression[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(expression.slice(i));
    if (num) {
      tokens.push({ kind: "num", value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i));
    if (id) {
      const word = id[0];
      if (word === "AND" || word === "OR") tokens.push({ kind: "op", op: word });
      else tokens.push({ kind: "id", name: word });
      i += word.length;
      continue;
    }
    const two = expression.slice(i, i + 2);
    if ([">=", "<=", "==", "!=", "&&", "||"].includes(two)) {
      tokens.push({ kind: "op", op: two === "&&" ? "AND" : two === "||" ? "OR" : two });
      i += 2;
      continue;
    }
    if ("+-*/^<>".includes(c)) {
      tokens.push({ kind: "op", op: c });
      i++;
      continue;
    }
    if ("(),[]".includes(c)) {
      tokens.push({ kind: "punct", ch: c });
      i++;
      continue;
    }
    throw invalid(expression, `unexpected '${c}'`);
  }
  return tokens;
}

export type MathNode =
  | { kind: "num"; value: number }
  | { kind: "ref"; name: string }
  | { kind: "word"; name: string }
  | { kind: "neg"; arg: MathNode }
  | { kind: "bin"; op: string; left: MathNode; right: MathNode }
  | { kind: "call"; name: string; args: MathNode[] }
  | { kind: "list"; items: MathNode[] };

const PRECEDENCE: Record<string, number> = {
  OR: 1,
  AND: 2,
  "==": 3,
  "!=": 3,
  ">": 4,
  "<": 4,
  ">=": 4,
  "<=": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "^": 7,
};

export function parseExpression(expression: string): MathNode {
  const tokens = tokenize(expression);
  let at = 0;
  const peek = () => tokens[at];
  const expect = (ch: string) => {
    const t = tokens[at++];
    if (t?.kind !== "punct" || t.ch !== ch) throw invalid(expression, `expected '${ch}'`);
  };
  const primary = (): MathNode => {
    const t = tokens[at++];
    if (!t) throw invalid(expression, "unexpected end");
    if (t.kind === "num") return { kind: "num", value: t.value };
    if (t.kind === "op" && t.op === "-") return { kind: "neg", arg: binary(7) };
    if (t.kind === "punct" && t.ch === "(") {
      const inner = binary(0);
      expect(")");
      return inner;
    }
    if (t.kind === "punct" && t.ch === "[") {
      const items: MathNode[] = [];
      while (!(peek()?.kind === "punct" && (peek() as { ch: string }).ch === "]")) {
        items.push(binary(0));
        const next = peek();
        if (next?.kind === "punct" && next.ch === ",") at++;
      }
      at++;
      return { kind: "list", items };
    }
    if (t.kind === "id") {
      const next = peek();
      if (next?.kind === "punct" && next.ch === "(") {
        at++;
        const args: MathNode[] = [];
        while (!(peek()?.kind === "punct" && (peek() as { ch: string }).ch === ")")) {
          args.push(binary(0));
          const sep = peek();
          if (sep?.kind === "punct" && sep.ch === ",") at++;
          else if (!(sep?.kind === "punct" && sep.ch === ")"))
            throw invalid(expression, "expected ',' or ')'");
        }
        at++;
        return { kind: "call", name: t.name.toUpperCase(), args };
      }
      if (t.name === "REPEAT" || t.name === "LINEAR") return { kind: "word", name: t.name };
      return { kind: "ref", name: t.name };
    }
    throw invalid(expression, "unexpected token");
  };
  const binary = (minPrecedence: number): MathNode => {
    let left = primary();
    for (;;) {
      const t = peek();
      if (t?.kind !== "op") return left;
      const precedence = PRECEDENCE[t.op]!;
      if (precedence <= minPrecedence && !(t.op === "^" && precedence === minPrecedence))
        return left;
      at++;
      const right = binary(precedence);
      left = { kind: "bin", op: t.op, left, right };
    }
  };
  const root = binary(0);
  if (at !== tokens.length) throw invalid(expression, "unexpected trailing input");
  return root;
}

/** Query ids an expression refers to. */
export function referencedIds(node: MathNode): string[] {
  switch (node.kind) {
    case "ref":
      return [node.name];
    case "neg":
      return referencedIds(node.arg);
    case "bin":
      return [...referencedIds(node.left), ...referencedIds(node.right)];
    case "call":
      return node.args.flatMap(referencedIds);
    case "list":
      return node.items.flatMap(referencedIds);
    default:
      return [];
  }
}

function applyOp(op: string, a: number, b: number): number {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return a / b;
    case "^":
      return a ** b;
    case ">":
      return a > b ? 1 : 0;
    case "<":
      return a < b ? 1 : 0;
    case ">=":
      return a >= b ? 1 : 0;
    case "<=":
      return a <= b ? 1 : 0;
    case "==":
      return a === b ? 1 : 0;
    case "!=":
      return a !== b ? 1 : 0;
    case "AND":
      return a !== 0 && b !== 0 ? 1 : 0;
    default:
      return a !== 0 || b !== 0 ? 1 : 0;
  }
}

/** Applies `f` pointwise: numbers broadcast, series meet where both have a point. */
function zip(a: MathValue, b: MathValue, f: (x: number, y: number) => number): MathValue {
  if (Array.isArray(a) || Array.isArray(b)) {
    const list = (Array.isArray(a) ? a : b) as SeriesValue[];
    return list.map(
      (s) => zip(Array.isArray(a) ? s : a, Array.isArray(b) ? s : b, f) as SeriesValue,
    );
  }
  if (typeof a === "number" && typeof b === "number") return f(a, b);
  const out: SeriesValue = new Map();
  if (typeof a === "number") {
    for (const [t, y] of b as SeriesValue) put(out, t, f(a, y));
  } else if (typeof b === "number") {
    for (const [t, x] of a) put(out, t, f(x, b));
  } else {
    for (const [t, x] of a) {
      const y = b.get(t);
      if (y !== undefined) put(out, t, f(x, y));
    }
  }
  return out;
}

function put(series: SeriesValue, t: number, value: number): void {
  if (Number.isFinite(value)) series.set(t, value);
}

function asSeries(value: MathValue, expression: string, what: string): SeriesValue {
  if (value instanceof Map) return value;
  throw invalid(expression, `${what} needs a time series`);
}

function aggregate(name: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (name) {
    case "SUM":
      return values.reduce((s, v) => s + v, 0);
    case "AVG":
      return values.reduce((s, v) => s + v, 0) / values.length;
    case "MIN":
      return Math.min(...values);
    default:
      return Math.max(...values);
  }
}

export function evaluate(node: MathNode, ctx: MathContext, expression: string): MathValue {
  const ev = (n: MathNode) => evaluate(n, ctx, expression);
  switch (node.kind) {
    case "num":
      return node.value;
    case "ref":
      return ctx.resolve(node.name);
    case "word":
      throw invalid(expression, `${node.name} is only an argument of FILL`);
    case "neg":
      return zip(ev(node.arg), -1, (x, y) => x * y);
    case "bin":
      return zip(ev(node.left), ev(node.right), (x, y) => applyOp(node.op, x, y));
    case "list":
      return node.items.map((item) => asSeries(ev(item), expression, "a list"));
    case "call":
      return call(node, ctx, expression, ev);
  }
}

function call(
  node: Extract<MathNode, { kind: "call" }>,
  ctx: MathContext,
  expression: string,
  ev: (n: MathNode) => MathValue,
): MathValue {
  const args = node.args;
  switch (node.name) {
    case "ABS":
      return zip(ev(args[0] ?? { kind: "num", value: Number.NaN }), 0, (x) => Math.abs(x));
    case "IF": {
      if (args.length < 2 || args.length > 3)
        throw invalid(expression, "IF takes 2 or 3 arguments");
      const cond = ev(args[0]!);
      const then = ev(args[1]!);
      const otherwise = args[2] ? ev(args[2]) : undefined;
      const pick = (c: number, t: number): number | undefined => {
        if (c !== 0) return typeof then === "number" ? then : (then as SeriesValue).get(t);
        if (otherwise === undefined) return undefined;
        return typeof otherwise === "number" ? otherwise : (otherwise as SeriesValue).get(t);
      };
      if (typeof cond === "number") {
        const chosen = cond !== 0 ? then : otherwise;
        return chosen ?? new Map();
      }
      const out: SeriesValue = new Map();
      for (const [t, c] of asSeries(cond, expression, "IF")) {
        const v = pick(c, t);
        if (v !== undefined) put(out, t, v);
      }
      return out;
    }
    case "FILL": {
      if (args.length !== 2) throw invalid(expression, "FILL takes 2 arguments");
      const series = asSeries(ev(args[0]!), expression, "FILL");
      const how = args[1]!;
      const grid = ctx.grid();
      const out: SeriesValue = new Map();
      if (how.kind === "word" && how.name === "REPEAT") {
        let last: number | undefined;
        for (const t of grid) {
          const v = series.get(t);
          if (v !== undefined) last = v;
          if (last !== undefined) out.set(t, last);
        }
        return out;
      }
      if (how.kind === "word" && how.name === "LINEAR") {
        const known = grid.filter((t) => series.has(t));
        for (const t of grid) {
          const v = series.get(t);
          if (v !== undefined) {
            out.set(t, v);
            continue;
          }
          const before = known.filter((k) => k < t).at(-1);
          const after = known.find((k) => k > t);
          if (before === undefined || after === undefined) continue;
          const a = series.get(before)!;
          const b = series.get(after)!;
          out.set(t, a + ((b - a) * (t - before)) / (after - before));
        }
        return out;
      }
      const fill = ev(how);
      for (const t of grid) {
        const v = series.get(t);
        const f = typeof fill === "number" ? fill : (fill as SeriesValue).get?.(t);
        if (v !== undefined) out.set(t, v);
        else if (f !== undefined) out.set(t, f);
      }
      return out;
    }
    case "SUM":
    case "AVG":
    case "MIN":
    case "MAX": {
      if (args.length !== 1) throw invalid(expression, `${node.name} takes 1 argument`);
      const value = ev(args[0]!);
      if (typeof value === "number") return value;
      if (value instanceof Map) {
        return aggregate(node.name, [...value.values()]) ?? new Map();
      }
      const out: SeriesValue = new Map();
      const times = new Set(value.flatMap((s) => [...s.keys()]));
      for (const t of [...times].sort((a, b) => a - b)) {
        const at = value.map((s) => s.get(t)).filter((v): v is number => v !== undefined);
        const v = aggregate(node.name, at);
        if (v !== undefined) put(out, t, v);
      }
      return out;
    }
    default:
      throw invalid(expression, `unsupported function ${node.name}`);
  }
}
