"""The pages Chorus serves (landing page, agents' inbox, chat widget) and the agents' live feed."""
