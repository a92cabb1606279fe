#!/usr/bin/env python3
"""Writes the seed corpora next to this file (run it again after changing
the input layout of a target; see tests/fuzz/fuzz_net.h)."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = bytes([0x37, 0xFA, 0x21, 0x3D])


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def ctl(flags=0, splits=()):
    """The control byte and split sizes (each byte b = b + 1 bytes)."""
    return bytes([flags | len(splits)]) + bytes(s - 1 for s in splits)


def masked(b0, payload):
    n = len(payload)
    h = bytes([b0])
    if n < 126:
        h += bytes([0x80 | n])
    elif n < 65536:
        h += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        h += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return h + KEY + bytes(c ^ KEY[i % 4] for i, c in enumerate(payload))


def rec(b0, payload):
    """A structured-mode record of fuzz_ws."""
    return bytes([b0, len(payload)]) + payload


H = "Host: bulwark.test\r\n"
GET = "GET /healthz HTTP/1.1\r\n" + H + "\r\n"
BODY = b'{"name":"ci key"}'
POST = ("POST /v1/platform-keys HTTP/1.1\r\n" + H +
        "Authorization: Bearer bwp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
        "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)).encode() + BODY
UPGRADE = ("GET /v1/events HTTP/1.1\r\n" + H + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Protocol: bulwark.v1, bearer.bwp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n\r\n")

http = {
    "get": ctl() + GET.encode(),
    "post_json": ctl() + POST,
    "pipelined": ctl() + (GET + "GET /nope HTTP/1.1\r\n" + H + "X-Request-Id: abc.DEF-1\r\n\r\n"
                          "DELETE /healthz HTTP/1.1\r\n" + H + "\r\n" + GET).encode(),
    "chunked": ctl() + ("POST /v1/platform-keys HTTP/1.1\r\n" + H +
                        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "8\r\n{\"name\":\r\n9\r\n\"ci key\"}\r\n0\r\n\r\n").encode() + GET.encode(),
    "chunked_smuggle": ctl() + ("POST /healthz HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n"
                                "%x\r\n%s\r\n0\r\n\r\n" % (len(GET), GET)).encode(),
    "trickle": ctl(0, (1, 5, 17, 2)) + GET.encode() + GET.encode(),
    "ws_upgrade": ctl() + UPGRADE.encode() + masked(0x81, b'{"type":"ping"}'),
    "admin_metrics": ctl(0x10) + ("GET /metrics HTTP/1.1\r\n" + H + "\r\n").encode(),
    "public_metrics": ctl() + ("GET /metrics HTTP/1.1\r\n" + H + "\r\n").encode(),
    "cl_te": ctl() + ("POST /healthz HTTP/1.1\r\n" + H + "Content-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n").encode(),
    "cl_space": ctl() + ("POST /healthz HTTP/1.1\r\n" + H + "Content-Length : 3\r\n\r\nabc").encode(),
    "cl_huge": ctl() + ("POST /healthz HTTP/1.1\r\n" + H + "Content-Length: 4294967301\r\n\r\n").encode(),
    "bare_lf": ctl() + ("GET /healthz HTTP/1.1\n" + "Host: a\n\n").encode(),
    "folded": ctl() + ("GET /healthz HTTP/1.1\r\n" + H + "X-A: 1\r\n 2\r\n\r\n").encode(),
    "partial_deadline": ctl(0x20) + b"GET /healthz HTTP/1.1\r\nHo",
    "idle_deadline": ctl(0x20) + GET.encode(),
    "deadline_mid": ctl(0x80, (20,)) + GET.encode(),
    "http10_v6": ctl(0x40) + b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n"
                             b"X-Forwarded-For: 203.0.113.9\r\n\r\n" + GET.encode(),
    "xff_chain": ctl() + ("GET /healthz HTTP/1.1\r\n" + H +
                          "X-Forwarded-For: 198.51.100.1, 10.1.2.3 , 192.0.2.9\r\n\r\n").encode(),
    "xff_junk_v6": ctl(0x40) + ("GET /healthz HTTP/1.1\r\n" + H +
                                "X-Forwarded-For: unknown, 2001:db8::1,\r\n\r\n").encode(),
    "query_params": ctl() + ("DELETE /v1/platform-keys/pk_1?x=%20&y HTTP/1.1\r\n" + H + "\r\n").encode(),
}
for k, v in http.items():
    write("fuzz_http", k, v)

ping = b'{"type":"ping"}'
ws = {
    "raw_ping": ctl() + masked(0x81, ping),
    "raw_unmasked": ctl() + b"\x81\x02hi",
    "raw_huge_len": ctl() + b"\x81\xff" + (1 << 62).to_bytes(8, "big") + KEY,
    "raw_close": ctl() + masked(0x88, b"\x03\xe8bye"),
    "structured": ctl(0x10) + rec(0x81, ping) + rec(0x89, b"p") + rec(0x8A, b"") + rec(0x81, b"[1]")
                  + rec(0x81, b'{"type":"x"}') + rec(0x88, b"\x03\xe8"),
    "fragmented": ctl(0x10) + rec(0x01, b'{"type":') + rec(0x89, b"") + rec(0x80, b'"ping"}'),
    "bad_utf8": ctl(0x10) + rec(0x81, b"\xc3\x28"),
    "binary": ctl(0x10) + rec(0x82, b"abc"),
    "too_big": ctl(0x10) + rec(0x01, b"[") + bytes([0x00, 255, 0xFF, 0xFF, 0x80, 255, 0x00, 0x10]),
    "with_upgrade": ctl(0x80, (9, 3)) + masked(0x81, ping) + masked(0x89, b"") + masked(0x81, ping),
    "shutdown_push": ctl(0x60, (5,)) + masked(0x81, ping) + masked(0x81, ping),
    "bad_close": ctl(0x10) + rec(0x88, b"\x03"),
}
for k, v in ws.items():
    write("fuzz_ws", k, v)

deep = 32
js = {
    "object": '{"name":"ci key","n":1,"f":-1.5e3,"t":true,"z":null,"a":[1,"x",{}]}',
    "depth32": "[" * deep + "]" * deep,
    "depth33": "[" * (deep + 1) + "]" * (deep + 1),
    "brackets_in_strings": '{"a":"[[[[{{{{\\"]]]}}","b":["\\\\",{"c":"\\u005b"}]}',
    "duplicate": '{"a":1,"a":2}',
    "bad_utf8": b'{"a":"\xff\xfe"}',
    "trailing": '{"a":1} x',
    "nul_escape": '{"a":"\\u0000"}',
    "surrogates": '["\\ud83d\\ude00","\\udc00"]',
    "numbers": "[0,-0,1e400,123456789012345678901234567890,0.1,1E-7]",
}
for k, v in js.items():
    write("fuzz_json", k, v)

cfg = {
    "addr": "127.0.0.1:8080",
    "addr_v6": "[::1]:0",
    "cidrs": "10.0.0.0/8, ::1/128,192.168.1.0/24",
    "cidr_hostbits": "10.0.0.1/8",
    "cidr_v6": "fe80::/10",
    "int": "65536",
    "int_neg": "-1",
    "enum": "debug",
    "path": "/var/lib/bulwark",
    "env": "BULWARK_LISTEN=127.0.0.1:1\nBULWARK_URL=http://x\nBULWARK_FOO=1\nBULWARK_LOG_LEVEL=warn",
    "spaces": "  full  ",
}
for k, v in cfg.items():
    write("fuzz_config", k, v)

# flows: fuzz_flow takes a flow document, fuzz_phone two region bytes and an input.
import json  # noqa: E402


def act(ident, typ, params=None, trans=None):
    a = {"Identifier": ident, "Type": typ}
    if params is not None:
        a["Parameters"] = params
    if trans is not None:
        a["Transitions"] = trans
    return a


def flow(start, *actions):
    return json.dumps({"Version": "2019-10-30", "StartAction": start, "Actions": list(actions)})


BYE = act("bye", "DisconnectParticipant", {}, {})
example = flow(
    "greet",
    act("greet", "MessageParticipant", {"Text": "Hello! What number can we reach you on?"},
        {"NextAction": "ask"}),
    act("ask", "GetParticipantInput", {"StoreInput": "True", "InputTimeLimitSeconds": "60"},
        {"NextAction": "check", "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}]}),
    act("check", "ValidateInput", {"Kind": "PhoneNumber", "Attribute": "callback_number"},
        {"NextAction": "queue", "Errors": [{"NextAction": "greet", "ErrorType": "InvalidInput"}]}),
    act("queue", "TransferContactToQueue", {"QueueId": "q_123"},
        {"Errors": [{"NextAction": "bye", "ErrorType": "QueueAtCapacity"}]}),
    BYE)
every = flow(
    "log",
    act("log", "UpdateFlowLoggingBehavior", {"FlowLoggingBehavior": "Enabled"}, {"NextAction": "hours"}),
    act("hours", "CheckHoursOfOperation", {"HoursOfOperationId": "hoo_1"},
        {"Conditions": [{"NextAction": "ask", "Condition": {"Operator": "Equals", "Operands": ["True"]}},
                        {"NextAction": "bye", "Condition": {"Operator": "Equals", "Operands": ["False"]}}]}),
    act("ask", "GetParticipantInput", {"Text": "Card?", "InputTimeLimitSeconds": 30},
        {"NextAction": "check", "Errors": [{"NextAction": "bye", "ErrorType": "NoMatchingError"}]}),
    act("check", "ValidateInput", {"Kind": "Pattern", "Pattern": "[0-9]{4}( [0-9]{4}){3}"},
        {"NextAction": "attrs", "Errors": [{"NextAction": "ask", "ErrorType": "InvalidInput"}]}),
    act("attrs", "UpdateContactAttributes", {"Attributes": {"raw": "$.StoredCustomerInput", "l": "fr"}},
        {"NextAction": "cmp"}),
    act("cmp", "Compare", {"ComparisonValue": "$.Attributes.l"},
        {"Conditions": [{"NextAction": "filter", "Condition": {"Operator": "NumberLessThan", "Operands": ["3"]}}],
         "Errors": [{"NextAction": "filter", "ErrorType": "NoMatchingCondition"}]}),
    act("filter", "CheckContactFilter", {"Identifier": "SourceIp"},
        {"NextAction": "integ", "Errors": [{"NextAction": "bye", "ErrorType": "ContactBlocked"}]}),
    act("integ", "InvokeIntegration", {"IntegrationId": "int_1", "Path": "/x", "RequestAttributes": {"a": "$.ContactId"}},
        {"NextAction": "store", "Errors": [{"NextAction": "bye", "ErrorType": "Timeout"}]}),
    act("store", "StoreCustomerInput", {"Attribute": "card", "EncryptionKeyId": "k1"}, {"NextAction": "queue"}),
    act("queue", "TransferContactToQueue", {"QueueId": "q_1"}, {}),
    BYE)
flows = {
    "example": example,
    "every_block": every,
    "loop": flow("a", act("a", "MessageParticipant", {"Text": "x"}, {"NextAction": "b"}),
                 act("b", "UpdateContactAttributes", {"Attributes": {"k": "v"}}, {"NextAction": "a"})),
    "unvalidated": flow("ask", act("ask", "GetParticipantInput", {}, {"NextAction": "cmp"}),
                        act("cmp", "Compare", {"ComparisonValue": "$.StoredCustomerInput"},
                            {"Conditions": [{"NextAction": "bye", "Condition": {"Operator": "Equals", "Operands": ["1"]}}]}),
                        BYE),
    "credential": flow("m", act("m", "MessageParticipant", {"Text": "Bearer abcdef0123456789"}, {"NextAction": "bye"}),
                       act("bye", "DisconnectParticipant", {"password": "hunter2"}, {})),
    "dangling": flow("x", act("a", "MessageParticipant", {"Text": "x"}, {"NextAction": "nowhere"}), BYE),
    "not_object": "[1,2,3]",
}
for k, v in flows.items():
    write("fuzz_flow", k, v)

phones = {
    "us_e164": "US+1 202-456-1111",
    "us_national": "US(202) 456-1111",
    "fr_mobile": "FR06 12 34 56 78",
    "gb": "GB020 7946 0958",
    "de_mobile": "DE+49 1512 3456789",
    "premium": "US+1 900 555 0123",
    "short": "US12",
    "no_region": "--+33 1 23 45 67 89",
    "bad_region": "XX0612345678",
    "ext": "US+1 202 456 1111 ext. 1234",
    "fullwidth": "JP\uff10\uff13\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    "luhn": "..4111 1111 1111 1111",
    "date": "..2024-02-29",
}
for k, v in phones.items():
    write("fuzz_phone", k, v)

# fraud: fuzz_fraud takes a kind byte (0 address, 1 number, 2 e-mail), the
# text, and after a NUL the bytes that pick addresses inside a range.
fraud = {
    "v4": b"\x00203.0.113.9",
    "v4_range": b"\x00203.0.113.0/24\x00\x11\x22\x33\x44",
    "v4_host_bits": b"\x00203.0.113.1/24",
    "v4_zero": b"\x000.0.0.0/0\x00\xde\xad\xbe\xef",
    "v6": b"\x002001:db8:1:2:3:4:5:6",
    "v6_64": b"\x002001:db8:1:2::/64\x00\x01\x02\x03\x04\x05\x06\x07\x08",
    "v6_48": b"\x002001:DB8:aa::/48",
    "v6_zero": b"\x00::/0\x00\xff\xfe",
    "v6_dotted": b"\x00::ffff:198.51.100.0/120",
    "v6_compat": b"\x00::1.2.3.4",
    "v6_bad": b"\x001:2:3:4::5:6:7:8",
    "prefix_bad": b"\x0010.0.0.0/024",
    "number": b"\x01+33612345678",
    "number_short": b"\x01+1234567",
    "email": b"\x02Alice.Smith@Example.COM",
    "email_bad": b"\x02a@b@c",
}
for k, v in fraud.items():
    write("fuzz_fraud", k, v)

# classification: fuzz_redact takes two region bytes and the text.
redact = {
    "mixed": "USAda, ada@example.com, (202) 456-1111, 4111 1111 1111 1111, 123-45-6789",
    "fr": "FRappelez le 06 12 34 56 78 ou +33 1 23 45 67 89",
    "no_region": "--+1 202 456 1111 / 202 456 1111",
    "card_tail": "US4929 1234 5678 7134 12 exp 12/27",
    "negatives": "USorder #2024561111, A-2024561111, 2026-12-25, 10.20.30.40, 1 000 000",
    "emails": "USa@b@c.com x@y.com,z@w.org ada.@example.com user@localhost",
    "paren": "US(4111111111111111) 123 (202) 456-1111",
    "wall": "US" + " ".join("%02d" % (i % 100) for i in range(200)),
    "placeholders": "US[CARD] [EMAIL]@x.com [PHONE]2024561111",
}
for k, v in redact.items():
    write("fuzz_redact", k, v)
