// Unit tests for Settling: each listener hears the outcome exactly once, never synchronously from settleWith, also
// when it comes late or during a delivery; settleNow delivers at once; many exchanges share one queue in order.
import { describe, expect, test } from "bun:test";
import { Settling } from "./settling.ts";

class Exchange extends Settling {
  decisions = 0;
  protected override onSettled(): void {
    this.decisions++;
  }
  end(err: Error | undefined, keepAlive: boolean): void {
    this.settleWith(err, keepAlive);
  }
  endNow(err: Error | undefined, keepAlive: boolean): void {
    this.settleNow(err, keepAlive);
  }
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe("Settling", () => {
  test("listeners hear once, in a microtask after settleWith, in the order they came; later settles are ignored", async () => {
    const x = new Exchange();
    const heard: string[] = [];
    x.whenSettled((err, ka) => heard.push(`a ${err?.message} ${ka}`));
    x.whenSettled((err, ka) => heard.push(`b ${err?.message} ${ka}`));
    x.whenSettled((err, ka) => heard.push(`c ${err?.message} ${ka}`));
    x.end(undefined, true);
    x.end(new Error("late"), false);
    expect(heard).toEqual([]);
    expect(x.decisions).toBe(1);
    await tick();
    expect(heard).toEqual(["a undefined true", "b undefined true", "c undefined true"]);
  });

  test("a listener that comes after the end hears it too, once, in a microtask", async () => {
    const x = new Exchange();
    x.end(new Error("boom"), false);
    const heard: string[] = [];
    x.whenSettled((err, ka) => heard.push(`${err?.message} ${ka}`));
    x.whenSettled((err) => heard.push(`second ${err?.message}`));
    expect(heard).toEqual([]);
    await tick();
    expect(heard).toEqual(["boom false", "second boom"]);
    await tick();
    expect(heard.length).toBe(2);
  });

  test("a listener added while the outcome is being delivered hears it in a later microtask", async () => {
    const x = new Exchange();
    const heard: string[] = [];
    x.whenSettled(() => {
      heard.push("first");
      x.whenSettled(() => heard.push("added during"));
      expect(heard).toEqual(["first"]);
    });
    x.end(undefined, true);
    await tick();
    expect(heard).toEqual(["first", "added during"]);
  });

  test("settleNow delivers at once; without listeners nothing is queued", async () => {
    const x = new Exchange();
    const heard: boolean[] = [];
    x.whenSettled((_e, ka) => heard.push(ka));
    x.endNow(undefined, true);
    expect(heard).toEqual([true]);
    const quiet = new Exchange();
    quiet.end(undefined, false);
    await tick();
    expect(quiet.decisions).toBe(1);
    expect(heard).toEqual([true]);
  });

  test("exchanges settled in one turn are heard in that order; one settled while the queue drains, after them", async () => {
    const order: number[] = [];
    const xs = Array.from({ length: 5 }, () => new Exchange());
    const late = new Exchange();
    xs.forEach((x, i) =>
      x.whenSettled(() => {
        order.push(i);
        if (i === 1) late.end(undefined, true);
      }),
    );
    late.whenSettled(() => order.push(99));
    for (const x of xs) x.end(undefined, true);
    await tick();
    expect(order).toEqual([0, 1, 2, 3, 4, 99]);
  });
});
