// How the plugin reads go-plugin's socket and multiplexing variables, with
// go-plugin's own rules (strconv.ParseBool, a gid or a group name).
import { test } from "node:test";
import assert from "node:assert/strict";
import { brokerMultiplexing, parseGoBool, resolveSocketGroup, SocketGroupError } from "../src/runtime/env.ts";

const groupFile = ["# comment:x:7:", "root:x:0:", "vault:x:1001:alice,bob", "plugins:*:2002:", ""].join("\n");
const read = () => groupFile;

test("ParseBool's spellings of true and false are recognised and nothing else", () => {
  for (const v of ["1", "t", "T", "TRUE", "true", "True"]) assert.equal(parseGoBool(v), true, v);
  for (const v of ["0", "f", "F", "FALSE", "false", "False"]) assert.equal(parseGoBool(v), false, v);
  for (const v of ["", "yes", "tRUE", " true"]) assert.equal(parseGoBool(v), undefined, JSON.stringify(v));
});

test("without PLUGIN_MULTIPLEX_GRPC the handshake has no seventh field and the broker is not multiplexed", () => {
  assert.deepEqual(brokerMultiplexing({}), { answer: false, enabled: false });
  assert.deepEqual(brokerMultiplexing({ PLUGIN_MULTIPLEX_GRPC: "" }), { answer: false, enabled: false });
});

test("PLUGIN_MULTIPLEX_GRPC=true turns the multiplexed broker on and is answered", () => {
  assert.deepEqual(brokerMultiplexing({ PLUGIN_MULTIPLEX_GRPC: "true" }), { answer: true, enabled: true });
});

test("a value that is not true is still answered, as go-plugin does, but leaves the broker as it was", () => {
  assert.deepEqual(brokerMultiplexing({ PLUGIN_MULTIPLEX_GRPC: "false" }), { answer: true, enabled: false });
  assert.deepEqual(brokerMultiplexing({ PLUGIN_MULTIPLEX_GRPC: "yes" }), { answer: true, enabled: false });
});

test("a numeric socket group is taken as the gid without looking it up", () => {
  assert.equal(resolveSocketGroup("1001", "/nonexistent", () => assert.fail("no lookup for a gid")), 1001);
  assert.equal(resolveSocketGroup("0", "/nonexistent", read), 0);
});

test("a socket group name is looked up in the group file", () => {
  assert.equal(resolveSocketGroup("vault", "/etc/group", read), 1001);
  assert.equal(resolveSocketGroup("plugins", "/etc/group", read), 2002);
});

test("an unknown group name is an error naming the variable and the group", () => {
  assert.throws(() => resolveSocketGroup("nobody-here", "/etc/group", read), (err: unknown) => {
    assert.ok(err instanceof SocketGroupError);
    assert.match(err.message, /PLUGIN_UNIX_SOCKET_GROUP: unknown group "nobody-here"/);
    return true;
  });
});

test("commented-out lines of the group file are not groups", () => {
  assert.throws(() => resolveSocketGroup("# comment", "/etc/group", read), SocketGroupError);
});

test("a negative gid is refused", () => {
  assert.throws(() => resolveSocketGroup("-5", "/etc/group", read), /not a valid gid/);
});

test("an unreadable group file is reported as such", () => {
  assert.throws(
    () =>
      resolveSocketGroup("vault", "/etc/group", () => {
        throw new Error("EACCES: permission denied");
      }),
    /cannot look up group "vault": EACCES/,
  );
});
