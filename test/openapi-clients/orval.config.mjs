// orval's fetch client takes its base URL at generation time (the round-trip test sets it).
export default {
  countersign: {
    input: { target: process.env.OPENAPI_FILE },
    output: {
      target: process.env.ORVAL_OUTPUT,
      client: "fetch",
      baseUrl: process.env.COUNTERSIGN_URL,
    },
  },
};
