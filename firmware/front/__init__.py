"""What any OCPP front is handed and what it hands back: the box it stands on, the shared
core built once for every version, and the `Front` protocol a version implements."""
