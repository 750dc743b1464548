// @hey-api/openapi-ts uses TypeScript's compiler API, which TypeScript 7 (the
// service's compiler, native) no longer ships. npm hoists the generator next to
// TypeScript 7 (its peer range accepts it), so `node --import` this file to
// make its `import "typescript"` load this workspace's TypeScript 5.
import { registerHooks } from "node:module";

const typescript5 = import.meta.resolve("typescript");
registerHooks({
  resolve(specifier, context, next) {
    if (specifier === "typescript") return { url: typescript5, format: "commonjs", shortCircuit: true };
    return next(specifier, context);
  },
});
