/**
 * A ready-made `SwapControl`: hold, promote or release the bake of a step from outside a
 * running swap (the wizard's menu, a chat-ops button). Every answer names its step, so a
 * promote that arrives after the swap moved on never skips the next step's bake.
 */
import type { BakeOverride } from "../core/swap-model.js";
import type { SwapControl } from "./loop.js";

export interface SwapController extends SwapControl {
  /** keeps `step` past the end of its bake (gates are still checked) until promote or release */
  hold(step: number): void;
  /** ends the bake of `step` now: the swap moves to the next step (or finalizes after the last) */
  promote(step: number): void;
  /** undoes a hold of `step`: its bake runs out its planned time (at once if it has) */
  release(step: number): void;
  /** the current override and its step, if any */
  readonly current: { step: number; override: BakeOverride } | undefined;
}

export function createSwapControl(): SwapController {
  let current: { step: number; override: BakeOverride } | undefined;
  const listeners = new Set<() => void>();
  const set = (next: typeof current) => {
    current = next;
    for (const wake of [...listeners]) wake();
  };
  return {
    get current() {
      return current;
    },
    bake: ({ step }) => (current?.step === step ? current.override : undefined),
    subscribe(wake) {
      listeners.add(wake);
      return () => {
        listeners.delete(wake);
      };
    },
    hold: (step) => set({ step, override: "hold" }),
    promote: (step) => set({ step, override: "promote" }),
    release(step) {
      if (current?.step === step) set(undefined);
    },
  };
}
