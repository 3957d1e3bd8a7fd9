import js from "@eslint/js";
import ts from "typescript-eslint";
import svelte from "eslint-plugin-svelte";
import globals from "globals";
import svelteConfig from "./svelte.config.js";

export default ts.config(
  // Generated from Rust by ts-rs; their shape is checked by svelte-check, not their style.
  { ignores: ["dist/", "node_modules/", "src/lib/bindings/"] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ["**/*.svelte", "**/*.svelte.ts"],
    languageOptions: {
      parserOptions: {
        projectService: true,
        extraFileExtensions: [".svelte"],
        parser: ts.parser,
        svelteConfig,
      },
    },
  },
  {
    // The one door to the desktop shell: every other module must go through src/lib/api.ts.
    files: ["src/**/*.ts", "src/**/*.svelte"],
    ignores: ["src/lib/api.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: ["@tauri-apps/*"], message: "Import from src/lib/api.ts instead." }] },
      ],
    },
  },
);
