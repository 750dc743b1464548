import { createServer } from "node:http";
import { fork } from "node:child_process";
import autocannon from "autocannon";
if (process.argv[2] === "child") {
  createServer((req, res) => { req.resume(); req.on("end", () => { res.writeHead(200, {"content-type":"text/plain"}); res.end("ok"); }); }).listen(4123, "127.0.0.1", () => process.send!("ready"));
} else {
  const c = fork(new URL(import.meta.url).pathname, ["child"], { execArgv: ["--import", "tsx"] });
  await new Promise((r) => c.once("message", r));
  for (const conns of [10, 50]) {
    const r = await autocannon({ url: "http://127.0.0.1:4123/", connections: conns, duration: 3, method: "POST", body: "x".repeat(600) });
    console.log(conns, r["2xx"] / r.duration, r.latency.p50, r.latency.p99);
  }
  c.kill();
}
