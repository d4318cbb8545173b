from django.apps import AppConfig


class SlackChannelsConfig(AppConfig):
    name = "slackchannels"
    verbose_name = "Slack incident channels"
