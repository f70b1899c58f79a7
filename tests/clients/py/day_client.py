"""A day's work in Navis, driven by the official Python MCP SDK with an API key, as an assistant
would do it: capture to the inbox, convert the item into a task, schedule the meeting, find free
time around it, record the meeting's notes, turn its action items into follow-up tasks, then
search for them and read the summary and the meeting back.

Usage: python day_client.py <mcp url> <api key> <day, YYYY-MM-DD>
Prints one JSON line describing what it saw; exits non-zero on any failure (a tool error included).
"""

import asyncio
import json
import sys

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    url, token, day = sys.argv[1], sys.argv[2], sys.argv[3]
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="legacy") as client:

            async def call(name, args):
                result = await client.call_tool(name, args)
                if result.is_error:
                    raise SystemExit(f"{name} failed: {result.content[0].text}")
                return result.structured_content

            await call("capture_to_inbox", {"text": "Prepare the quarterly review with Bo", "source": "chat"})
            inbox = await call("list_inbox", {})
            item = inbox["items"][0]
            converted = await call("convert_inbox_item", {"id": item["id"], "into": "task", "due_date": day, "priority": "high"})
            review = await call("create_event", {
                "title": "Quarterly review",
                "start": f"{day}T10:00:00Z",
                "end": f"{day}T11:00:00Z",
                "kind": "meeting",
                "attendees": ["bo@example.com"],
            })
            free = await call("find_free_time", {
                "from": day, "to": day, "duration_minutes": 60, "work_start": "09:00", "work_end": "17:00", "time_zone": "UTC",
            })
            notes = await call("record_meeting_notes", {
                "event_id": review["id"],
                "body": "Decided: ship the redesign in July.\n- Bo drafts the launch plan\n- Ada books the offsite venue",
            })
            follow_ups = await call("create_follow_ups", {
                "event_id": review["id"],
                "action_items": [
                    {"title": "Draft the launch plan", "assignee": "Bo", "due_date": day},
                    {"title": "Book the offsite venue", "assignee": "Ada"},
                ],
            })
            found = await call("search_workspace", {"query": "venue"})
            summary = await call("get_workspace_summary", {})
            meeting = await call("get_meeting", {"event_id": review["id"]})
            print(json.dumps({
                "convertedTaskId": converted["task"]["id"],
                "itemStatus": converted["item"]["status"],
                "eventId": review["id"],
                "freeSlots": [[s["start"], s["end"]] for s in free["slots"]],
                "noteId": notes["id"],
                "followUpIds": [t["id"] for t in follow_ups["tasks"]],
                "found": [[r["type"], r["id"]] for r in found["results"]],
                "counts": summary["counts"],
                "meetingNotes": [n["id"] for n in meeting["notes"]],
                "meetingFollowUps": [t["id"] for t in meeting["follow_ups"]],
            }), flush=True)


asyncio.run(main())
