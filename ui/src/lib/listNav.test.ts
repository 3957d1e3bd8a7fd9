import { describe, expect, it } from "vitest";
import { isTypingTarget, listMove } from "./listNav";

describe("moving through a list", () => {
  it("steps with the arrows and j/k, and stops at the ends", () => {
    expect(listMove("ArrowDown", 0, 3)).toBe(1);
    expect(listMove("j", 1, 3)).toBe(2);
    expect(listMove("ArrowDown", 2, 3)).toBe(2);
    expect(listMove("ArrowUp", 2, 3)).toBe(1);
    expect(listMove("k", 0, 3)).toBe(0);
  });

  it("starts at the top when nothing is focused yet", () => {
    expect(listMove("ArrowDown", -1, 3)).toBe(0);
    expect(listMove("k", -1, 3)).toBe(0);
  });

  it("jumps with Home and End, and ignores other keys and empty lists", () => {
    expect(listMove("Home", 2, 5)).toBe(0);
    expect(listMove("End", 0, 5)).toBe(4);
    expect(listMove("Enter", 0, 5)).toBeNull();
    expect(listMove("x", 0, 5)).toBeNull();
    expect(listMove("ArrowDown", -1, 0)).toBeNull();
  });

  it("leaves keys typed into fields alone", () => {
    expect(isTypingTarget({ tagName: "INPUT" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "text" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "INPUT", type: "checkbox" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget({ tagName: "SELECT" } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget({ tagName: "A" } as unknown as EventTarget)).toBe(false);
    expect(isTypingTarget({ tagName: "DIV", isContentEditable: true } as unknown as EventTarget)).toBe(true);
    expect(isTypingTarget(null)).toBe(false);
  });
});
