"""Dashboard-only servers (issue 17): Voila serving one notebook to guests, behind the FactoryHub gate.

``launcher`` is the console script (factoryhub-dashboard-server), ``server`` the application it runs,
``gate`` the jupyter-server extension in front of every route; nothing is registered at import time.
"""
