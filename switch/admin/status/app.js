// Placeholder: the status page's script polls /status.json once a second.
"use strict";
