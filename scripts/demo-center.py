#!/usr/bin/env python3
"""`make run`: gives the demo instance a working contact center through the
public API (hours open all week, a queue, a routing profile, a flow that
greets, asks for a phone number, validates it and queues, chat and callback
entry points, one agent). Prints what a person needs to try it.
Usage: demo-center.py URL INSTANCE_ID ADMIN_PASSWORD"""
import json
import secrets
import sys
import urllib.request

URL, IID, PASSWORD = sys.argv[1], sys.argv[2], sys.argv[3]


def call(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(URL + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


I = "/v1/instances/" + IID
admin = call("POST", I + "/auth/login", {"username": "admin", "password": PASSWORD})["token"]
days = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
hours = call("POST", I + "/hours-of-operation", {
    "name": "always", "time_zone": "UTC",
    "config": [{"day": d, "start": "00:00", "end": "24:00"} for d in days]}, admin)
queue = call("POST", I + "/queues", {"name": "support", "hours_of_operation_id": hours["id"]}, admin)
rp = call("POST", I + "/routing-profiles", {
    "name": "support agents", "queues": [{"queue_id": queue["id"], "priority": 1, "delay_s": 0}],
    "concurrency": {"CHAT": 3, "CALLBACK": 1}}, admin)
flow_doc = {
    "Version": "2019-10-30", "StartAction": "greet",
    "Actions": [
        {"Identifier": "greet", "Type": "MessageParticipant",
         "Parameters": {"Text": "Hello! What number can we reach you on?"},
         "Transitions": {"NextAction": "ask"}},
        {"Identifier": "ask", "Type": "GetParticipantInput",
         "Parameters": {"StoreInput": "True", "InputTimeLimitSeconds": "120"},
         "Transitions": {"NextAction": "check",
                         "Errors": [{"NextAction": "queue", "ErrorType": "NoMatchingError"}]}},
        {"Identifier": "check", "Type": "ValidateInput",
         "Parameters": {"Kind": "PhoneNumber", "Attribute": "callback_number"},
         "Transitions": {"NextAction": "thanks",
                         "Errors": [{"NextAction": "again", "ErrorType": "InvalidInput"}]}},
        {"Identifier": "again", "Type": "MessageParticipant",
         "Parameters": {"Text": "That does not look like a phone number."},
         "Transitions": {"NextAction": "ask"}},
        {"Identifier": "thanks", "Type": "MessageParticipant",
         "Parameters": {"Text": "Thank you. An agent will be with you shortly."},
         "Transitions": {"NextAction": "queue"}},
        {"Identifier": "queue", "Type": "TransferContactToQueue",
         "Parameters": {"QueueId": queue["id"]},
         "Transitions": {"Errors": [{"NextAction": "bye", "ErrorType": "QueueAtCapacity"}]}},
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}},
    ]}
flow = call("POST", I + "/flows", {"name": "demo", "content": flow_doc}, admin)
call("POST", I + "/flows/" + flow["id"] + "/publish", None, admin)
chat = call("POST", I + "/entry-points", {"name": "web chat", "type": "CHAT", "flow_id": flow["id"]}, admin)
cb = call("POST", I + "/entry-points", {"name": "callback", "type": "CALLBACK", "flow_id": flow["id"]}, admin)
profiles = call("GET", I + "/security-profiles", None, admin)["items"]
agent_profile = next(p["id"] for p in profiles if p["name"] == "Agent")
agent_password = secrets.token_urlsafe(18)
call("POST", I + "/users", {
    "username": "agent", "password": agent_password, "first_name": "Demo", "last_name": "Agent",
    "security_profile_ids": [agent_profile], "routing_profile_id": rp["id"]}, admin)
print("  chat entry point: %s   callback entry point: %s" % (chat["id"], cb["id"]))
print("  demo agent: user agent, password (shown once): %s" % agent_password)
print("  try: curl -H 'content-type: application/json' -d '{\"entry_point\":\"%s\",\"display_name\":\"Ada\"}' %s%s"
      % (chat["id"], URL, "/v1/public/instances/" + IID + "/chats"))
