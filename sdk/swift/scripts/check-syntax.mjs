// Parses Swift with tree-sitter's Swift grammar and fails on any ERROR or
// MISSING node: the syntax check we can run on machines without a Swift
// toolchain. Arguments are .swift files, folders (searched for .swift
// files), and Markdown files, whose ```swift blocks are parsed (only between
// <!-- sdk-swift:start --> and <!-- sdk-swift:end --> when those markers
// exist). Prints one line per file and "N passed, N failed".
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Parser from 'web-tree-sitter';

const require = createRequire(import.meta.url);
await Parser.init();
const swift = await Parser.Language.load(require.resolve('tree-sitter-wasms/out/tree-sitter-swift.wasm'));
const parser = new Parser();
parser.setLanguage(swift);

function swiftFiles(p) {
  const st = fs.statSync(p);
  if (!st.isDirectory()) return [p];
  return fs.readdirSync(p).sort().flatMap((n) => (n === 'node_modules' || n === '.build' ? [] : swiftFiles(path.join(p, n))))
    .filter((f) => f.endsWith('.swift') || f.endsWith('.md'));
}

// sources yields [name, text] for each unit to parse.
function* sources(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (!file.endsWith('.md')) {
    yield [file, text];
    return;
  }
  let body = text;
  const start = text.indexOf('<!-- sdk-swift:start -->');
  const end = text.indexOf('<!-- sdk-swift:end -->');
  if (start >= 0 && end > start) body = text.slice(start, end);
  const blocks = [...body.matchAll(/```swift\n([\s\S]*?)```/g)];
  if (blocks.length === 0) throw new Error(`${file}: no swift code blocks`);
  let i = 0;
  for (const b of blocks) yield [`${file} (swift block ${++i})`, b[1]];
}

function problems(tree, text) {
  const out = [];
  const walk = (n) => {
    if (n.type === 'ERROR' || n.isMissing()) {
      const what = n.isMissing() ? `MISSING ${n.type}` : 'ERROR';
      const snippet = text.slice(n.startIndex, Math.min(n.endIndex, n.startIndex + 60)).replace(/\n/g, '⏎');
      out.push(`${n.startPosition.row + 1}:${n.startPosition.column + 1} ${what}: ${snippet}`);
    }
    for (const c of n.children) walk(c);
  };
  walk(tree.rootNode);
  return out;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: check-syntax.mjs FILE_OR_DIR...');
  process.exit(2);
}
let passed = 0;
let failed = 0;
for (const file of args.flatMap(swiftFiles)) {
  for (const [name, text] of sources(file)) {
    const found = problems(parser.parse(text), text);
    if (found.length === 0) {
      passed++;
      console.log(`ok   ${name}`);
    } else {
      failed++;
      console.log(`FAIL ${name}\n  ${found.slice(0, 10).join('\n  ')}`);
    }
  }
}
console.log(`swift syntax: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
