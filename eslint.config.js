// Lint for what the compiler does not catch: promises left floating, misused async, SQL outside the store.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  // Tool configurations that must be CommonJS (.dependency-cruiser.cjs).
  // The pages' browser modules.
  { files: ['web/**/*.js'], languageOptions: { sourceType: 'module', globals: { window: 'readonly', document: 'readonly', location: 'readonly', fetch: 'readonly', crypto: 'readonly', sessionStorage: 'readonly', console: 'readonly', URL: 'readonly', Blob: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', atob: 'readonly', btoa: 'readonly', HTMLElement: 'readonly', setTimeout: 'readonly', URLSearchParams: 'readonly', navigator: 'readonly', Event: 'readonly', KeyboardEvent: 'readonly' } } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } } },
  {
    // Only the store speaks SQL: routes, jobs, the CLI and tools call its repositories (tests may query to assert).
    files: ['src/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['src/store/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...["CallExpression[callee.property.name='query']", "CallExpression[callee.property.value='query']"].map((selector) => ({
          selector,
          message: 'SQL belongs in src/store/: call (or add) a repository function there instead of .query().',
        })),
      ],
    },
  },
);
