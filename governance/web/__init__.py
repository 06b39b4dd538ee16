"""The Flask edge: the guard, console sessions, security headers, error rendering and the
service call of a request. Nothing below this package imports Flask."""
