// `npm ci` / `npm install` in a checkout: builds the client package
// (clients/typescript/dist) when its build tool is installed. A production
// install (`npm ci --omit=dev`, the systemd and Docker path) has no TypeScript
// compiler and needs no client: the service never imports it, so this step is
// skipped there instead of failing the install.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
if (!existsSync(`${root}clients/typescript/package.json`)) process.exit(0);
if (!existsSync(`${root}node_modules/typescript/package.json`)) {
  console.log(
    "countersign: TypeScript is not installed (a production install): the client package is not built",
  );
  process.exit(0);
}
const built = spawnSync("npm", ["run", "--silent", "build", "-w", "@countersign/client"], {
  cwd: root,
  stdio: "inherit",
});
process.exit(built.status ?? 1);
