import { createContext, type Size } from "../lib/context.ts";
const [name, size = "quick", prof] = process.argv.slice(2);
const mod = await import(`../${name}.ts`);
const fn = Object.values(mod).find((v) => typeof v === "function" && (v as Function).name.endsWith("Bench")) as (c: unknown) => Promise<unknown>;
const ctx = createContext(size as Size, { profileDir: prof ? "/work/main/.bench/profiles" : null });
await fn(ctx);
