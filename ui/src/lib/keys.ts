// Keyboard helpers shared by forms.

/**
 * Lets Enter flip a checkbox or switch as Space does, so every control in the app answers to
 * Tab and Enter. Use as `onkeydown={enterToggles}` on the input.
 */
export function enterToggles(event: KeyboardEvent): void {
  if (event.key !== "Enter" || event.defaultPrevented) return;
  const input = event.currentTarget as HTMLInputElement | null;
  if (!input || input.disabled) return;
  event.preventDefault();
  input.click();
}
