// Lint rules that back the style guide (../shared/STYLE.md, "Tooling").
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'bench/tmp/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
    },
  },
  {
    // The web UI: browser modules in plain JavaScript (type-checked by ui/tsconfig.json).
    files: ['ui/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', globals: globals.browser },
    rules: { 'no-unused-vars': ['error', { args: 'none' }] },
  },
  {
    // Scheduler methods run on the run loop and must be synchronous.
    files: ['src/scheduler/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: ':function[async=true]', message: 'scheduler code must be synchronous (STYLE 1)' },
        { selector: 'AwaitExpression', message: 'scheduler code must not await (STYLE 1)' },
        { selector: "NewExpression[callee.name='Promise']", message: 'scheduler code must not create promises (STYLE 1)' },
        { selector: "CallExpression[callee.name=/^set(Timeout|Interval|Immediate)$/]", message: 'scheduler code must not start timers (STYLE 1)' },
      ],
    },
  },
);
