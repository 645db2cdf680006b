import streamlit as st

st.title("your_data")
st.info("Coming soon.")
