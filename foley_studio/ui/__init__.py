"""The editor (PySide6 + pyqtgraph): views over `core` objects; every change is a `core` edit.

`app.run_editor` starts it; `main_window.MainWindow` wires the timeline, picture, library,
spectrogram and the docks of the generation panels to one `document.ProjectDocument`.
Qt appears nowhere else in Foley Studio.
"""
