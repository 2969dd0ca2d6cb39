// Bundles the widget's modules into the one classic script publishers embed.
//   node widget/build.mjs [--outfile PATH]   (default engagement/web/static/widget.js; `make widget`)
// The entry is widget/src/main.js, preceded by every widget/src/features/*.js (in name order): a
// feature registers through hooks.js when imported, so adding one edits no shared file.
import { build } from "esbuild";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const src = path.join(root, "widget/src");
const at = process.argv.indexOf("--outfile");
const outfile = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, "engagement/web/static/widget.js");
const featureDir = path.join(src, "features");
const features = existsSync(featureDir) ? readdirSync(featureDir).filter((name) => name.endsWith(".js")).sort() : [];

await build({
  stdin: {
    contents: [...features.map((name) => `import "./features/${name}";`), 'import "./main.js";'].join("\n"),
    resolveDir: src,
    sourcefile: "widget.js",
  },
  outfile,
  bundle: true,
  minify: true,
  // An IIFE: a plain script (no `import` left), its names private to the closure.
  format: "iife",
  // The sources already need ES2020 (`?.`, `??`): nothing is lowered, so nothing grows.
  target: "es2020",
  charset: "utf8",
  legalComments: "none",
  logLevel: "warning",
});
