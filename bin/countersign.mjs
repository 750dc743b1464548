#!/usr/bin/env node
// The `countersign` operator command. Node runs the TypeScript sources itself
// (type stripping, Node 22.18+); an older Node is refused in one line first.
import "./preload.mjs";

await import("../src/cli/main.ts");
