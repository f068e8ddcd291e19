"""Follow-up sequences after confirmation: the sequence, its sending window and the plan of one-time
schedules (``sequence``, pure), and the services that schedule, cancel and send the steps (``service``)."""
