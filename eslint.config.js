import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { importX } from "eslint-plugin-import-x";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".riskometer/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // No import circle in the sources: a module's dependencies can be read from the top down,
    // and none is half-initialised when another runs (type-only imports, erased when compiled,
    // are not counted).
    files: ["src/**/*.ts"],
    plugins: { "import-x": importX },
    settings: importX.flatConfigs.typescript.settings,
    rules: { "import-x/no-cycle": ["error", { ignoreExternal: true }] },
  },
  {
    // The web UI runs in the browser (plain ES modules, no build step), not in Node.
    files: ["web/**/*.js"],
    languageOptions: { globals: { ...globals.browser } },
  },
);
