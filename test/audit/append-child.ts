// Appends events to DATABASE_PATH from its own process and connection (concurrency test).
import { seedEvents } from "./helpers.ts";

const [path, count, from] = process.argv.slice(2);
await seedEvents(path as string, Number(count), Number(from));
