// Builds the SDK bundle (dist/sdk/parley.js, the npm package's entry) and the demo app
// (index.html, app.js, app.css) into the directory given with --app-out (default dist/app), then
// prints the SDK's size minified and gzipped (what README.md documents).
import { build } from "esbuild";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

if (Number(process.versions.node.split(".")[0]) < 20) {
  console.error(`Node.js 20 or newer is required to build the web client, found ${process.version}`);
  process.exit(1);
}

const here = dirname(dirname(fileURLToPath(import.meta.url)));
const arg = process.argv.indexOf("--app-out");
const appOut = arg > 0 ? process.argv[arg + 1] : join(here, "dist/app");

// The package's module: dependencies stay imports, so apps share one @bufbuild/protobuf.
await build({
  entryPoints: [join(here, "src/index.ts")],
  outfile: join(here, "dist/sdk/parley.js"),
  bundle: true,
  format: "esm",
  target: "es2022",
  packages: "external",
  sourcemap: true,
});

// Everything a page downloads for the SDK, dependencies included: the number to document.
const standalone = await build({
  entryPoints: [join(here, "src/index.ts")],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
});
const bytes = standalone.outputFiles[0].contents;
await mkdir(join(here, "dist"), { recursive: true });
await writeFile(join(here, "dist/parley.min.js"), bytes);

await mkdir(appOut, { recursive: true });
await build({
  entryPoints: { app: join(here, "app/main.ts") },
  outdir: appOut,
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
});
await build({ entryPoints: { app: join(here, "app/styles.css") }, outdir: appOut, bundle: true, minify: true });
await copyFile(join(here, "app/index.html"), join(appOut, "index.html"));
const app = await readFile(join(appOut, "app.js"));

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`SDK (with @bufbuild/protobuf): ${kib(bytes.length)} minified, ${kib(gzipSync(bytes, { level: 9 }).length)} minified+gzip`);
console.log(`demo app: ${kib(app.length)} minified, ${kib(gzipSync(app, { level: 9 }).length)} minified+gzip -> ${appOut}`);
