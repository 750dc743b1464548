// Refuses, in one line and with exit 2, a Node that cannot run countersign:
// the sources are TypeScript that Node runs itself (type stripping), which
// needs Node 22.18 or newer. Loaded with `node --import ./bin/check-node.mjs`
// (npm start, the systemd unit) or first thing by the `countersign` bin, so
// it runs before Node tries, and fails confusingly, to load a .ts file.
const NEEDED = [22, 18];
const found = process.versions.node;
const [major, minor] = found.split(".").map(Number);
const tooOld = major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1]);
if (tooOld || process.features?.typescript === false) {
  process.stderr.write(
    `countersign: Node ${found} found; Node ${NEEDED.join(".")} or newer is needed (26 recommended: see the README, "Development")\n`,
  );
  process.exit(2);
}
