"""Live shopping rooms: scheduling, the media server (nginx-rtmp), the chat hub."""
