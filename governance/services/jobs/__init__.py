"""Jobs: the queue, job kinds and the in-process runner / worker loop."""
