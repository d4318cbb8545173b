"""The inbound Slack app: the ``/sredesk`` slash command, buttons and modals, and the Events API.

Three doors (``views``) verify Slack's signature, record each request once
(``models.InboundRequest``), answer within Slack's 3 s and hand the work to a
worker (``tasks``), which calls the handler registered for it (``registry``)
with the mapped sredesk person (``identity``). Handlers write through the
domain services, under the one write rule, with source ``slack``.
"""
