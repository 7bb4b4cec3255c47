"""Live captions and translation (issue 6): the host's speech transcribed and translated into each
viewer's language, and chat translated both ways, on engines that run on the operator's machine.

Integration points for live rooms (wired in by the live package / app lifespan). ``CaptionRooms``
(service.py) does the per-room bookkeeping below for you; the raw pieces are:

* Start-up, once per process: ``engines = await asyncio.to_thread(build_engines, settings)``
  (``passerelle.captions.engines``; it loads Whisper and warms Apertium: seconds, so off the loop).
  ``engines.recognizer`` is None when no speech model is configured; ``engines.recognizer_error`` says why.
* Per live room, when the stream starts and captions are on::

      pipeline = CaptionPipeline(
          f"rtmp://127.0.0.1:{port}/live/{stream_key}",  # or the HLS playlist, or any ffmpeg input
          room.spoken_language, subscribed_languages,
          on_caption=lambda c: hub.publish(room.id, c.as_event()),
          on_status=lambda s: hub.publish(room.id, {"type": "caption_status", **s.as_dict()}),
          recognizer=engines.recognizer, translator=engines.translator,
          vtt_dir=recording_dir / "captions", retry_delay_s=2.0,
      )
      task = asyncio.create_task(pipeline.run())  # pipeline.stop() when the stream ends or captions go off

  ``pipeline.set_targets(langs)`` when viewers pick a new caption language; ``pipeline.status`` (state,
  engines, latency p50/p95) for the host. Caption times are stream seconds from the pipeline start;
  ``WebVTTWriter`` writes ``<vtt_dir>/<lang>.vtt`` for the replay (use ``offset_s`` if the recording
  started earlier). Viewers whose language is unsupported get the original-language captions
  (``caption.original``) and the status says ``unsupported_pair``.
* Chat: ``result = await engines.chat.translate_message(text, source_lang=None, target_langs=viewer_langs)``
  then ``hub.publish(room_id, {**result.as_event(), "message_id": ...})`` (the hub adds its own id); each viewer shows
  ``result.texts[their_lang]`` with ``result.original`` on hover. Cached: one engine call per line and language.
* Viewer page: include ``/static/js/captions.js``, put ``<p data-captions>`` under the video and a
  ``<select data-caption-language>``, then ``passerelleCaptions.attach(roomSocket, document)``. The page
  sends ``{"type": "caption_language", "lang", "previous"}`` on the socket: the hub should call
  ``rooms.viewer_joined(room_id, lang)`` / ``rooms.viewer_left(room_id, previous)`` (and left on disconnect).
  Chat lines: ``passerelleCaptions.showChat(element, chat_translation_event)``.
* Routes (mount them in app.py and set ``app.state.captions = CaptionRooms(engines, hub.publish, vtt_root=...)``
  in the lifespan; ``await rooms.close()`` on shutdown): ``captions.api.router`` under /api/v1
  (GET /captions/engines, GET /captions/rooms/{room_id}) and ``captions.pages.router``
  (GET /captions/rooms/{room_id}/status, the host console fragment, htmx-polled).
"""
