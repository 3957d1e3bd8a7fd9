// Moving through a list with the keyboard: ↑/↓ or k/j, Home and End. Pure index arithmetic,
// plus the check that keeps typing in a field from moving anything.

/**
 * Where focus goes from item `at` (−1: none focused yet) of `length` items for `key`, or null
 * when the key does not move it. Stops at the ends rather than wrapping: wrapping hides where
 * the list ends.
 */
export function listMove(key: string, at: number, length: number): number | null {
  if (length <= 0) return null;
  switch (key) {
    case "ArrowDown":
    case "j":
      return at < 0 ? 0 : Math.min(at + 1, length - 1);
    case "ArrowUp":
    case "k":
      return at < 0 ? 0 : Math.max(at - 1, 0);
    case "Home":
      return 0;
    case "End":
      return length - 1;
    default:
      return null;
  }
}

// Inputs that take no typing: keys pressed on them (Escape, j/k) are the page's.
const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset", "range", "color", "file", "image"]);

/** True when a key press belongs to a field being typed in (or a select being changed). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!target || typeof (target as HTMLElement).tagName !== "string") return false;
  const el = target as HTMLElement;
  if (el.tagName === "INPUT") return !NOT_TYPED.has(((el as HTMLInputElement).type ?? "text").toLowerCase());
  return ["SELECT", "TEXTAREA"].includes(el.tagName) || el.isContentEditable === true;
}

/**
 * Moves focus among `items` for a key press that came from inside them; returns true when it
 * did (the caller then prevents the key's default, such as scrolling). Modified keys are left
 * alone, so browser and system shortcuts keep working.
 */
export function moveFocus(event: KeyboardEvent, items: readonly HTMLElement[]): boolean {
  if (event.altKey || event.ctrlKey || event.metaKey || isTypingTarget(event.target)) return false;
  const active = typeof document === "undefined" ? null : document.activeElement;
  const at = items.findIndex((item) => item === active || item.contains(active));
  const to = listMove(event.key, at, items.length);
  if (to === null) return false;
  items[to].focus();
  return true;
}
