"""Push approval's services: pairing an app, the app's signed requests, and the answers to
its challenges (sending one is the method's own work: methods/push.py)."""
