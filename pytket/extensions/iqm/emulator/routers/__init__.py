"""The emulator server's routers: root pages, architecture, jobs and the auth server."""
