"""The hub's endpoint for sharing dashboards by name (``POST /hub/dashboard-shares``).

An owner gives an institutional user, or a group, access to one of their dashboards on the
dashboards service's pages; the service asks the hub here (its own token, scope
``custom:dashboards:share``). JupyterHub lets only a holder of ``access:servers`` on a server
grant a share of it, and no scope filter can say "dash- servers only"; rather than give the
service access to every server, the hub grants shares here itself, of ``dash-`` servers only.
"""
from __future__ import annotations

import json

from jupyterhub import orm
from jupyterhub.apihandlers.base import APIHandler
from tornado import web

PATH = "/dashboard-shares"
SCOPE = "custom:dashboards:share"
SERVER_PREFIX = "dash-"


class DashboardShareHandler(APIHandler):
    """POST {owner, server, user | group, grant: true | false}: grant or revoke one share of a dash- server."""

    async def post(self):
        if not self.current_user or SCOPE not in self.expanded_scopes:
            raise web.HTTPError(403, f"sharing dashboards needs {SCOPE} (the dashboards service)")
        body = self.get_json_body() or {}
        owner_name, server = str(body.get("owner", "")), str(body.get("server", ""))
        user_name, group_name = body.get("user"), body.get("group")
        if not server.startswith(SERVER_PREFIX) or (user_name is None) == (group_name is None):
            raise web.HTTPError(400, "give owner, a dash- server, and exactly one of user and group")
        owner = self.find_user(owner_name)
        spawner = owner.orm_user.orm_spawners.get(server) if owner is not None else None
        if spawner is None:
            raise web.HTTPError(404, f"{owner_name} has no server {server}")
        if user_name is not None:
            found = self.find_user(str(user_name))
            target = found.orm_user if found is not None else None
        else:
            target = orm.Group.find(self.db, name=str(group_name))
        if target is None:
            raise web.HTTPError(400, f"no {'user' if user_name is not None else 'group'} "
                                     f"{user_name if user_name is not None else group_name} on this hub")
        if body.get("grant", True):
            orm.Share.grant(self.db, spawner, target)
        else:
            orm.Share.revoke(self.db, spawner, target)
        self.db.commit()
        self.log.info("Dashboard %s/%s %s %s %s", owner_name, server, "shared with" if body.get("grant", True)
                      else "no longer shared with", "user" if user_name is not None else "group", target.name)
        self.finish(json.dumps({"owner": owner_name, "server": server, "user": user_name, "group": group_name,
                                "granted": bool(body.get("grant", True))}))
