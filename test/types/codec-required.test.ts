import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Issue 21, item 7: `new ReconnectingSocket<In, Out>(url)` without a codec, for message types that are not wire
// data, used to say only "Expected 2 arguments, but got 1" and point into a hashed .d.ts; the compiler must name
// the missing codec.

describe('a missing codec is named in the type error', () => {
  it('new ReconnectingSocket<In, Out>(url) without options', () => {
    const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
    const file = fileURLToPath(new URL('./__codec-snippet.ts', import.meta.url));
    const source = `import { ReconnectingSocket } from ${JSON.stringify(index.replace(/\.ts$/, '.js'))};
type In = { type: 'price'; value: number };
type Out = { type: 'subscribe' };
new ReconnectingSocket<In, Out>('ws://127.0.0.1:9');
new ReconnectingSocket<In, Out>('ws://127.0.0.1:9', { autoConnect: false });
`;
    const options: ts.CompilerOptions = { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.esnext.disposable.d.ts'], types: [], skipLibCheck: true, customConditions: ['source'] };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (name) => (name === file ? source : read(name));
    const exists = host.fileExists.bind(host);
    host.fileExists = (name) => name === file || exists(name);
    const program = ts.createProgram([file], options, host);
    const messages = ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.relatedInformation ?? []).map((r) => ` | ${ts.flattenDiagnosticMessageText(r.messageText, '\n')}`).join(''));
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/optionsWithCodec/);
    expect(messages[1]).toMatch(/codec/);
  });
});
