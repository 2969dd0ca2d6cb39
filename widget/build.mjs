// Bundles widget/src/main.js and its imports into the one classic script publishers embed.
//   node widget/build.mjs [--outfile PATH]   (default engagement/web/static/widget.js; `make widget`)
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const at = process.argv.indexOf("--outfile");
const outfile = at > 0 ? path.resolve(process.argv[at + 1]) : path.join(root, "engagement/web/static/widget.js");

await build({
  entryPoints: [path.join(root, "widget/src/main.js")],
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
