#!/usr/bin/env node
// The `countersign` operator command. Node runs the TypeScript sources itself
// (type stripping, Node 22.18+); an older Node is refused in one line first.
import "./check-node.mjs";

await import("../src/cli/main.ts");
