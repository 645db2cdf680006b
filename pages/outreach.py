import streamlit as st

st.title("outreach")
st.info("Coming soon.")
