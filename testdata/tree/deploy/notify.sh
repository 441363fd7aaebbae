#!/bin/sh
curl -X POST -d @msg.json https://hooks.slack.com/services/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
