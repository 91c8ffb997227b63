"""Classroom and workshop rooms: a presenter shows something to an audience that follows it live and votes in polls."""
