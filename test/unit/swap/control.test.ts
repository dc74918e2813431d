import { describe, expect, it } from "vitest";
import { createSwapControl } from "../../../src/swap/control.js";

describe("createSwapControl", () => {
  it("answers only for the step it was given", () => {
    const control = createSwapControl();
    expect(control.bake({ step: 1, weight: 5 })).toBeUndefined();
    control.hold(1);
    expect(control.bake({ step: 1, weight: 5 })).toBe("hold");
    expect(control.bake({ step: 2, weight: 25 })).toBeUndefined();
    control.promote(1);
    expect(control.bake({ step: 1, weight: 5 })).toBe("promote");
    // a late promote of step 1 never shortens the bake of step 2
    expect(control.bake({ step: 2, weight: 25 })).toBeUndefined();
    expect(control.current).toEqual({ step: 1, override: "promote" });
  });

  it("release undoes a hold of that step only", () => {
    const control = createSwapControl();
    control.hold(2);
    control.release(1);
    expect(control.bake({ step: 2, weight: 25 })).toBe("hold");
    control.release(2);
    expect(control.bake({ step: 2, weight: 25 })).toBeUndefined();
    expect(control.current).toBeUndefined();
  });

  it("wakes its subscribers on every change, until they unsubscribe", () => {
    const control = createSwapControl();
    let wakes = 0;
    const off = control.subscribe?.(() => wakes++);
    control.hold(1);
    control.promote(1);
    control.release(3); // not step 3's: no change, no wake
    expect(wakes).toBe(2);
    off?.();
    control.hold(2);
    expect(wakes).toBe(2);
  });
});
