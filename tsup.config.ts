import { readFileSync, writeFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

/**
 * reconnecting-websocket's CommonJS build is the class itself (`const RWS = require('reconnecting-websocket')`).
 * Ours becomes the class too, with `default` and `ReconnectingWebSocket` on it, so `require()` callers need
 * only the new path, and `.default`/named access keep working.
 */
const classAsCjsExports: NonNullable<Options['plugins']>[number] = {
  name: 'class-as-cjs-exports',
  // After the bundle is written, when every export assignment is in place at the end of the file.
  buildEnd({ writtenFiles }) {
    for (const { name } of writtenFiles) {
      if (!/compat[\\/]reconnecting-websocket\.cjs$/.test(name)) continue;
      const code = readFileSync(name, 'utf8');
      const at = code.indexOf('//# sourceMappingURL=');
      const line = 'module.exports = Object.assign(exports.default, exports);\n';
      writeFileSync(name, at === -1 ? `${code}\n${line}` : `${code.slice(0, at)}${line}${code.slice(at)}`);
    }
  },
};

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'node/index': 'src/node/index.ts',
    'compat/index': 'src/compat/index.ts',
    'compat/partysocket': 'src/compat/partysocket.ts',
    'compat/partysocket/ws': 'src/compat/partysocket-ws.ts',
    'compat/reconnecting-websocket': 'src/compat/reconnecting-websocket.ts',
    'react/index': 'src/react/index.ts',
    'shared/index': 'src/shared/index.ts',
    // The conditional modules of package.json "imports": each is its own file, chosen by the user's runtime or
    // bundler (development or production checks; ws in Node, the native WebSocket in browsers).
    checks: 'src/checks.ts',
    'checks.production': 'src/checks.production.ts',
    platform: 'src/platform.ts',
    'platform.browser': 'src/platform.browser.ts',
    'resume/index': 'src/resume/index.ts',
    'server/index': 'src/server/index.ts',
  },
  format: ['esm', 'cjs'],
  // The declarations name Symbol.dispose and Symbol.asyncDispose: they bring the lib that declares them, so a
  // project on lib ES2022 + DOM type-checks them (skipLibCheck: false) without adding it (TypeScript >= 5.2).
  dts: { banner: '/// <reference lib="esnext.disposable" />' },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // The CommonJS entries share their chunks as the ESM ones do, instead of each carrying a copy of the core.
  // esbuild already drops unused code; tsup's extra Rollup pass (`treeshake`) changed no ESM byte that counts,
  // and warned about every entry with a default export beside named ones (the compat classes).
  splitting: true,
  external: ['ws', 'mitt', 'react', '#checks', '#platform'],
  // import.meta.url (platform.ts finds ws with createRequire) in the CommonJS build.
  shims: true,
  plugins: [classAsCjsExports],
});
