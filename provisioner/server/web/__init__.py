"""The registry server's web pages: stacks by env, a stack's page, the audit log, behind a sign-in."""
